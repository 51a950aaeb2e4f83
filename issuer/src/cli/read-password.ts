/**
 * Reads a password for the CLI: from standard input (`--password-stdin`, for scripts), from
 * `AKM_PASSWORD`, or from a prompt that does not echo when a terminal is attached.
 */
import { createInterface } from 'node:readline';
import { CliError } from './cli-error.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function prompt(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    output._writeToOutput = (s: string) => {
      if (s.startsWith(question)) process.stderr.write(question);
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

/** The password, from the first source that has one. */
export async function readPassword(fromStdin: boolean | undefined, question = 'Password: '): Promise<string> {
  const password = fromStdin ? await readStdin() : (process.env.AKM_PASSWORD ?? (process.stdin.isTTY ? await prompt(question) : ''));
  if (!password) throw new CliError('no password: use --password-stdin, set AKM_PASSWORD, or run in a terminal');
  return password;
}

/**
 * Two passwords (e.g. the current and a new one): two lines of standard input with
 * `fromStdin`, else two prompts on a terminal.
 */
export async function readPasswordPair(fromStdin: boolean | undefined, questions: [string, string]): Promise<[string, string]> {
  if (fromStdin) {
    const [first, second] = (await readStdin()).split(/\r?\n/);
    if (!first || !second) throw new CliError('--password-stdin: give the current password and the new one, one per line');
    return [first, second];
  }
  if (!process.stdin.isTTY) throw new CliError('no password: use --password-stdin (two lines), or run in a terminal');
  const first = await prompt(questions[0]);
  const second = await prompt(questions[1]);
  if (!first || !second) throw new CliError('no password given');
  return [first, second];
}
