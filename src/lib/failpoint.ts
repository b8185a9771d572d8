// Crash injection for restart-safety tests: BERTH_FAILPOINT=<name> makes berthd SIGKILL itself
// when it reaches the named point, so a test can prove that nothing half-made survives a crash.
// The variable is read once: failpoints sit on hot paths (one per downloaded chunk), and every
// process.env lookup is a call into the C++ environment.
const armed = process.env.BERTH_FAILPOINT;

export function failpoint(name: string): void {
  if (armed === name) process.kill(process.pid, 'SIGKILL');
}
