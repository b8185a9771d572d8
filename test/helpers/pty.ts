// Drive an interactive CLI session (docker/berth exec -it, run -it, attach) through a real
// pseudo-terminal: python3's pty module, so no native Node addon is needed.
import { spawn } from 'node:child_process';

// python3 is a package of scripts/setup.sh: the pty tests run everywhere the suite runs (no skip).

// Protocol on stdin (one JSON object per line): {"write": "..."} types text into the terminal,
// {"resize": [rows, cols]} changes the terminal's size (the kernel sends SIGWINCH),
// {"waitfor": "regex", "timeout": s} waits until the output so far matches. The script prints
// {"matched": ...} or {"timeout": ...}, and at the end {"exit": code, "output": "..."}.
const DRIVER = String.raw`
import os, pty, sys, json, fcntl, termios, struct, select, time, re
rows, cols = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(argv[0], argv)
out = b''
def pump(t):
    global out
    r, _, _ = select.select([fd], [], [], t)
    if r:
        try:
            d = os.read(fd, 65536)
        except OSError:
            return False
        if not d:
            return False
        out += d
    return True
alive = True
for line in sys.stdin:
    cmd = json.loads(line)
    if 'write' in cmd:
        os.write(fd, cmd['write'].encode())
    elif 'resize' in cmd:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', cmd['resize'][0], cmd['resize'][1], 0, 0))
    elif 'waitfor' in cmd:
        deadline = time.time() + cmd.get('timeout', 20)
        pat = re.compile(cmd['waitfor'].encode())
        while not pat.search(out) and time.time() < deadline and alive:
            alive = pump(0.1)
        print(json.dumps({'matched' if pat.search(out) else 'timeout': cmd['waitfor']}), flush=True)
    elif 'end' in cmd:
        break
deadline = time.time() + 20
while alive and time.time() < deadline:
    alive = pump(0.1)
try:
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
except ChildProcessError:
    code = -1
print(json.dumps({'exit': code, 'output': out.decode('utf8', 'replace')}), flush=True)
`;

export type PtyStep = { write: string } | { resize: [number, number] } | { waitfor: string; timeout?: number } | { end: true };

export interface PtyResult {
  exit: number;
  output: string;
  /** One entry per waitfor step: true if it matched. */
  matched: boolean[];
}

/** Run `argv` in a pty of the given size, play the steps, and collect output and exit code. */
export function runInPty(argv: string[], size: [number, number], steps: PtyStep[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<PtyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', DRIVER, String(size[0]), String(size[1]), ...argv], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let text = '';
    const matched: boolean[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('close', () => {
      clearTimeout(timer);
      let result: PtyResult | undefined;
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const msg = JSON.parse(line) as { matched?: string; timeout?: string; exit?: number; output?: string };
        if (msg.matched !== undefined) matched.push(true);
        else if (msg.timeout !== undefined) matched.push(false);
        else if (msg.exit !== undefined) result = { exit: msg.exit, output: msg.output ?? '', matched };
      }
      if (result) resolve(result);
      else reject(new Error(`pty driver failed: ${text}`));
    });
    // Steps are written one at a time, each after the previous has been acted on is not needed:
    // the driver reads them in order and waitfor blocks the ones after it.
    for (const s of steps) child.stdin.write(JSON.stringify(s) + '\n');
    child.stdin.end();
  });
}
