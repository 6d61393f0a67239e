/** In-process counters for /metrics (Prometheus text format) and the console. */
export class Metrics {
  readonly #calls = new Map<string, number>();
  readonly startedAt = Date.now();

  count(code: string, respCode: string): void {
    const k = `${code}|${respCode}`;
    this.#calls.set(k, (this.#calls.get(k) ?? 0) + 1);
  }

  prometheus(): string {
    const lines = [
      '# HELP mdl_interface_calls_total Interface calls by interface code and response code.',
      '# TYPE mdl_interface_calls_total counter',
    ];
    for (const [k, v] of this.#calls) {
      const [code, resp] = k.split('|');
      lines.push(`mdl_interface_calls_total{code="${code}",resp_code="${resp}"} ${v}`);
    }
    lines.push('# TYPE mdl_uptime_seconds gauge', `mdl_uptime_seconds ${Math.round((Date.now() - this.startedAt) / 1000)}`);
    return lines.join('\n') + '\n';
  }
}
