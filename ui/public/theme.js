// Sets <html data-theme="light|dark"> before the first paint, so the stylesheets hold one dark
// palette (under [data-theme='dark']) and a dark page never flashes white. A plain file, loaded
// by a <script> in the <head> of index.html and portal.html: the Content-Security-Policy allows
// scripts from 'self' only, never inline ones (docs/security.md).
//
// The choice, first found wins:
// - the portal (docs/portal.md, "Theming"): `?theme=dark|light` on its URL, kept for the tab;
// - the admin UI: the sidebar's switch, kept in localStorage (ui/src/prefs.ts);
// - else the system's preference, followed live while the page is open.
(function () {
  var root = document.documentElement;
  var system = window.matchMedia('(prefers-color-scheme: dark)');
  var portal = /^\/portal(\/|$)/.test(window.location.pathname);
  var valid = function (t) {
    return t === 'light' || t === 'dark' ? t : null;
  };

  function storedChoice() {
    try {
      if (!portal) return valid(localStorage.getItem('hookline.theme'));
      var asked = valid(new URLSearchParams(window.location.search).get('theme'));
      if (asked) sessionStorage.setItem('hookline.portalTheme', asked);
      return asked || valid(sessionStorage.getItem('hookline.portalTheme'));
    } catch {
      // Storage refused (privacy settings, a third-party frame): the URL or the system decides.
      return portal ? valid(new URLSearchParams(window.location.search).get('theme')) : null;
    }
  }

  var choice = storedChoice();
  function apply() {
    root.setAttribute('data-theme', choice || (system.matches ? 'dark' : 'light'));
  }
  system.addEventListener('change', apply);
  apply();

  /** For the app's switch: 'light', 'dark', or anything else to follow the system again. */
  window.hooklineTheme = {
    set: function (t) {
      choice = valid(t);
      apply();
    },
  };
})();
