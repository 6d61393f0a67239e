/** Where a command writes: standard output for results, standard error for warnings (keeps --json parseable). */
export interface Io {
  out(s: string): void;
  err(s: string): void;
}
