/** CPU time and memory of processes, from /proc (Linux). */
import { readdirSync, readFileSync } from 'node:fs';

// USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
const TICKS = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields start after the last ')'.
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds used so far by a process (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  return (Number(f[11]) + Number(f[12])) / TICKS; // utime, stime (fields 14, 15)
}

/** Peak resident set (VmHWM) and current RSS in MiB. */
export function memory(pid: number): { peakRssMb: number; rssMb: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
    return { peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return { peakRssMb: 0, rssMb: 0 };
  }
}

/** A process and its direct children (a PostgreSQL postmaster and its backends). */
export function processTree(rootPid: number): number[] {
  const pids = [rootPid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === rootPid) pids.push(Number(entry));
  }
  return pids;
}

/** The pid of the postmaster listening on a port, found by its command line. */
export function postmasterPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.endsWith('postgres')) continue;
      const i = argv.indexOf('-p');
      if (i !== -1 && argv[i + 1] === String(port)) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/**
 * CPU seconds of a PostgreSQL server and all its backends. Backends come and
 * go, so this is a sum over the ones alive now; take differences over a phase
 * in which the connections stay open.
 */
export function treeCpuSeconds(rootPid: number | undefined): number {
  if (rootPid === undefined) return 0;
  return processTree(rootPid).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** The machine, for the report. */
export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const memTotalMb = Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0) / 1024);
  return {
    cpu: model,
    cores,
    memTotalMb,
    node: process.version,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  };
}

/** The 1-minute load average: how busy the machine was around a run. */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Busy and total jiffies of the whole machine since boot (/proc/stat), to tell how loaded it was. */
export function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}
