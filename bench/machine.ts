/**
 * The machine a result was measured on, recorded with every result: figures from a 2-core
 * container and from a 32-core server are not comparable, ratios measured in the same run are.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

/** What the machine was. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  natsServer: string;
  redisServer: string;
  /** 1, 5 and 15-minute load averages when the run started: other work on the machine. */
  loadAverage: number[];
  gitCommit: string;
}

function versionOf(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim().split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

/** Describes this machine. */
export function describeMachine(): MachineInfo {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${process.platform} ${release()}`,
    natsServer: versionOf('nats-server', ['--version']),
    redisServer: versionOf('redis-server', ['--version']).replace(/ sha=.*/, ''),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    gitCommit: versionOf('git', ['rev-parse', '--short', 'HEAD']),
  };
}
