import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux, as processes.ts assumes too). */
const HZ = 100;

/** Busy CPU seconds of the whole machine since boot: /proc/stat's cpu line, every state but idle and iowait. */
export function machineBusySeconds(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user and nice)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / HZ;
}

/** CPU seconds the hypervisor gave to others while this machine's vCPUs wanted to run (steal; inside machineBusySeconds). */
export function machineStealSeconds(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
  return (fields[7] ?? 0) / HZ;
}

interface ProcStat {
  pid: number;
  ppid: number;
  name: string;
  /** utime + stime: the process's own CPU (every thread), seconds. */
  self: number;
  /** cutime + cstime: the CPU of its children that have exited and that it has waited for, seconds. */
  reaped: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    // After "pid (comm) ": state, ppid, ... utime (14th field), stime, cutime, cstime.
    const f = text.slice(close + 2).split(' ');
    return { pid, ppid: Number(f[1]), name, self: (Number(f[11]) + Number(f[12])) / HZ, reaped: (Number(f[13]) + Number(f[14])) / HZ };
  } catch {
    return null;
  }
}

/** Every process of the machine right now. */
function allProcesses(): ProcStat[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => readStat(Number(d)) ?? []);
}

/** The pids of the processes listening on a local TCP port (IPv4 or IPv6), found through their sockets' inodes. */
export function listenerPids(port: number): number[] {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is hex ip:port; state 0A is LISTEN; the inode is the 10th field.
      if (f[3] === '0A' && parseInt((f[1] ?? '').split(':')[1] ?? '', 16) === port && f[9]) inodes.add(`socket:[${f[9]}]`);
    }
  }
  if (inodes.size === 0) return [];
  const pids = new Set<number>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${d}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${d}/fd/${fd}`))) {
          pids.add(Number(d));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return [...pids];
}

/**
 * What to account for: a label per role and the processes that play it. `tree`: the process
 * and all its descendants, with the children they have reaped (Postgres: the postmaster, its
 * backends and background processes, and backends that ended during the window); otherwise
 * the process alone (the bench itself, whose children are the services counted apart).
 */
export interface Accounted {
  label: string;
  pids: number[];
  tree: boolean;
}

export interface CpuSnapshot {
  at: number;
  machine: number;
  /** Per label, CPU seconds so far. */
  roles: Map<string, number>;
  /** Every other process's own CPU so far (utime + stime + reaped children), by pid. */
  others: Map<number, { name: string; seconds: number }>;
}

export interface CpuAccount {
  seconds: number;
  /** Busy CPU seconds of the machine (all cores) over the window. */
  machineCpuSeconds: number;
  /** Per role, CPU seconds over the window (null: no such process found). */
  processes: Record<string, number | null>;
  knownCpuSeconds: number;
  /** Machine CPU not used by any known process: other users of the machine, the kernel's own threads. */
  unexplainedCpuSeconds: number;
  /** The processes outside the known ones that used the most CPU over the window. */
  largestOthers: { pid: number; name: string; seconds: number }[];
}

/** The CPU of the machine and of every known process now. */
export function cpuSnapshot(accounted: readonly Accounted[]): CpuSnapshot {
  const procs = allProcesses();
  const machine = machineBusySeconds();
  const children = new Map<number, ProcStat[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const claimed = new Set<number>();
  const roles = new Map<string, number>();
  for (const role of accounted) {
    let sum = 0;
    const stack = role.pids.flatMap((pid) => byPid.get(pid) ?? []);
    while (stack.length > 0) {
      const p = stack.pop() as ProcStat;
      if (claimed.has(p.pid)) continue;
      claimed.add(p.pid);
      sum += role.tree ? p.self + p.reaped : p.self;
      if (role.tree) stack.push(...(children.get(p.pid) ?? []));
    }
    if (role.pids.some((pid) => byPid.has(pid))) roles.set(role.label, sum);
  }
  const others = new Map<number, { name: string; seconds: number }>();
  for (const p of procs) if (!claimed.has(p.pid)) others.set(p.pid, { name: p.name, seconds: p.self + p.reaped });
  return { at: Date.now(), machine, roles, others };
}

const round = (x: number) => Math.round(x * 10) / 10;

/** A process's command line, its program without the directory, shortened (its name when it is gone). */
function commandOf(pid: number, name: string): string {
  try {
    const [program, ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (!program) return name;
    const cmd = [program.slice(program.lastIndexOf('/') + 1), ...args].join(' ');
    return cmd.length > 90 ? `${cmd.slice(0, 87)}...` : cmd;
  } catch {
    return name;
  }
}

/** The CPU used between two snapshots, per role, and what no known process explains. */
export function cpuBetween(accounted: readonly Accounted[], start: CpuSnapshot, end: CpuSnapshot): CpuAccount {
  const processes: Record<string, number | null> = {};
  let known = 0;
  for (const { label } of accounted) {
    const a = start.roles.get(label);
    const b = end.roles.get(label);
    // A role whose processes exited before the end (or started after the start) has no figure.
    const used = a === undefined || b === undefined ? null : Math.max(0, b - a);
    processes[label] = used === null ? null : round(used);
    known += used ?? 0;
  }
  const machineCpuSeconds = end.machine - start.machine;
  const largestOthers = [...end.others]
    .map(([pid, p]) => ({ pid, name: p.name, seconds: round(p.seconds - (start.others.get(pid)?.seconds ?? 0)) }))
    .filter((p) => p.seconds > 0)
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, 3)
    .map((p) => ({ ...p, name: commandOf(p.pid, p.name) }));
  return {
    seconds: round((end.at - start.at) / 1000),
    machineCpuSeconds: round(machineCpuSeconds),
    processes,
    knownCpuSeconds: round(known),
    unexplainedCpuSeconds: round(machineCpuSeconds - known),
    largestOthers,
  };
}

/** Postgres' processes by what they do: a backend by its connection's application_name, any other by its backend_type. */
export interface PostgresSnapshot {
  /** Per pid: its label and its own CPU seconds so far. */
  pids: Map<number, { label: string; seconds: number }>;
}

interface Activity {
  pid: number;
  application_name: string | null;
  backend_type: string;
}

/**
 * Every Postgres process serving any database now, labelled: a client backend by its
 * `application_name` (with what follows a space dropped: "query-service answer cache" is the
 * query service), any other process by its `backend_type` (walwriter, checkpointer, autovacuum
 * worker, ...). `activity` is pg_stat_activity's rows, read by the caller.
 */
export function postgresSnapshot(activity: readonly Activity[]): PostgresSnapshot {
  const pids = new Map<number, { label: string; seconds: number }>();
  for (const a of activity) {
    const stat = readStat(a.pid);
    if (!stat) continue;
    const label = a.backend_type === 'client backend' ? (a.application_name || 'unnamed').split(' ')[0] as string : a.backend_type;
    pids.set(a.pid, { label, seconds: stat.self });
  }
  return { pids };
}

/** What pg_stat_activity lists, for postgresSnapshot. */
export const POSTGRES_ACTIVITY = 'select pid, application_name, backend_type from pg_stat_activity';

/**
 * Postgres' CPU between two snapshots by label, for processes alive at both ends (a backend
 * that began meanwhile counts from zero). Backends that ended meanwhile are not in it: the
 * difference from the Postgres role of cpuBetween is theirs and the postmaster's.
 */
export function postgresBetween(start: PostgresSnapshot, end: PostgresSnapshot): Record<string, number> {
  const byLabel: Record<string, number> = {};
  for (const [pid, p] of end.pids) byLabel[p.label] = (byLabel[p.label] ?? 0) + p.seconds - (start.pids.get(pid)?.seconds ?? 0);
  return Object.fromEntries(Object.entries(byLabel).map(([k, v]) => [k, round(v)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]));
}
