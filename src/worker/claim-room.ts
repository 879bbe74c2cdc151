/**
 * The room a claim has for each webhook: what its in-flight slots allow
 * (webhook-slots.ts) and, for a rate-limited webhook, what its token bucket
 * allows (rate-limit.ts), whichever is less. A webhook with no room for either
 * reason is `busy`: the claim leaves all its deliveries in the queue, and the
 * first of its attempts to end with room again wakes the producer.
 */
import type { RateLimiter } from './rate-limit.js';
import type { ClaimRoom, WebhookSlots } from './webhook-slots.js';

export type RoomSource = Pick<WebhookSlots, 'room' | 'isBusy'>;

/** Slots and rate limits as one source of claim room, for the producer. */
export function slotsAndRates(
  slots: RoomSource,
  rates: Pick<RateLimiter, 'rooms' | 'room'>,
): RoomSource {
  return {
    room(now) {
      const r = slots.room(now);
      const byRate = rates.rooms(now);
      if (byRate.size === 0) return r;
      const out: ClaimRoom = { busy: [...r.busy], ids: [], rooms: [], fresh: r.fresh };
      const bySlots = new Map(r.ids.map((id, i) => [id, r.rooms[i]]));
      for (const [id, n] of bySlots)
        if (!byRate.has(id)) {
          out.ids.push(id);
          out.rooms.push(n);
        }
      const busy = new Set(r.busy);
      for (const [id, n] of byRate) {
        if (busy.has(id)) continue;
        if (n <= 0) out.busy.push(id);
        else {
          out.ids.push(id);
          out.rooms.push(Math.min(n, bySlots.get(id) ?? r.fresh));
        }
      }
      return out;
    },
    isBusy(webhookId, now) {
      return slots.isBusy(webhookId, now) || rates.room(webhookId, now) === 0;
    },
  };
}
