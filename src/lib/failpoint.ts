// Crash injection for restart-safety tests: BERTH_FAILPOINT=<name> makes berthd SIGKILL itself
// when it reaches the named point, so a test can prove that nothing half-made survives a crash.
export function failpoint(name: string): void {
  if (process.env.BERTH_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
