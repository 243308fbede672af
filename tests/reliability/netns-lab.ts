// A small lab of separate hosts on one Linux machine: one network namespace per peer, each
// with its own eth0 and address, joined by veth pairs to a bridge that lives in a namespace of
// its own (so nothing is added to the machine's own network, and its firewall does not see the
// traffic). Optional added latency on one host with tc netem. Names carry this process's id;
// `remove()` deletes every namespace it made (the veths go with them), and `removeStale()`
// deletes those of earlier runs whose process is gone.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The prefix of every namespace this lab makes: gfl-lab-<pid>-... */
const PREFIX = 'gfl-lab-';

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function inNs(ns: string, cmd: readonly string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why this machine cannot run the lab (not root, no `ip netns`), or null when it can. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces are Linux only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  const probe = `${PREFIX}${process.pid}-probe`;
  try {
    ip(['netns', 'add', probe]);
    ip(['netns', 'del', probe]);
    return null;
  } catch (err) {
    return `ip netns failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Whether tc can add netem delay here (tc installed and the netem qdisc available). */
function netemWorks(ns: string, dev: string, delayMs: number): string | null {
  try {
    inNs(ns, ['tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${delayMs}ms`]);
    return null;
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    return stderr || (err as Error).message.split('\n')[0];
  }
}

/** One host of the lab. */
export interface LabHost {
  readonly ns: string;
  /** Its address on the lab's network. */
  readonly address: string;
  /** The prefix to run a command inside it. */
  readonly wrap: readonly string[];
}

export class NetnsLab {
  readonly hosts: LabHost[] = [];
  private readonly namespaces: string[] = [];
  private readonly tag: string;
  private readonly subnet: string;

  constructor(readonly count: number) {
    this.tag = `${PREFIX}${process.pid}`;
    // A /24 in 10.0.0.0/8 that depends on the pid, so two labs at once do not share one.
    this.subnet = `10.${200 + (process.pid % 50)}.${(process.pid >> 6) % 250}`;
  }

  /** Creates the switch and the hosts. Throws (after removing what it made) when a step fails. */
  create(): void {
    try {
      const sw = this.addNs('sw');
      inNs(sw, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
      inNs(sw, ['ip', 'link', 'set', 'br0', 'up']);
      for (let i = 0; i < this.count; i++) {
        const ns = this.addNs(`h${i}`);
        // Short names: an interface name has at most 15 characters.
        const a = `gfl${process.pid % 100000}a${i}`;
        const b = `gfl${process.pid % 100000}b${i}`;
        ip(['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
        ip(['link', 'set', a, 'netns', sw]);
        ip(['link', 'set', b, 'netns', ns]);
        inNs(sw, ['ip', 'link', 'set', a, 'master', 'br0']);
        inNs(sw, ['ip', 'link', 'set', a, 'up']);
        inNs(ns, ['ip', 'link', 'set', b, 'name', 'eth0']);
        const address = `${this.subnet}.${i + 1}`;
        inNs(ns, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
        inNs(ns, ['ip', 'link', 'set', 'eth0', 'up']);
        inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
        this.hosts.push({ ns, address, wrap: ['ip', 'netns', 'exec', ns] });
      }
    } catch (err) {
      this.remove();
      throw err;
    }
  }

  /** Adds `delayMs` of latency to everything host i sends; null when done, else why tc could not. */
  addLatency(i: number, delayMs: number): string | null {
    if (!existsSync('/usr/sbin/tc') && !existsSync('/sbin/tc') && !existsSync('/usr/bin/tc')) return 'tc is not installed';
    return netemWorks(this.hosts[i].ns, 'eth0', delayMs);
  }

  /** The qdisc line of host i's eth0 (shows the netem delay when one is set). */
  qdisc(i: number): string {
    return inNs(this.hosts[i].ns, ['tc', 'qdisc', 'show', 'dev', 'eth0']).trim();
  }

  /** Deletes every namespace of this lab (their interfaces go with them); never throws. */
  remove(): void {
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  }

  private addNs(name: string): string {
    const ns = `${this.tag}-${name}`;
    ip(['netns', 'add', ns]);
    this.namespaces.push(ns);
    return ns;
  }
}

/** Deletes lab namespaces left by runs whose process no longer exists (a killed test run). */
export function removeStale(): void {
  let names: string[];
  try {
    names = ip(['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const ns of names) {
    const pid = Number(ns.slice(PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || existsSync(`/proc/${pid}`)) continue;
    try {
      ip(['netns', 'del', ns]);
    } catch {
      // another run removed it
    }
  }
}
