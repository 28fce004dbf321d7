// One scrape: every enabled collector in parallel, each timed and reported, one collection at a time.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { renderFamilies } from './exposition.ts';
import type { Collector, MetricFamily } from './types.ts';

export interface ScraperOptions {
  /** Built collectors by name. */
  collectors: ReadonlyMap<string, Collector>;
  log: Logger;
}

/**
 * Runs the collectors and renders the result. A collector that throws reports
 * node_scrape_collector_success 0 and contributes nothing else; the scrape still succeeds.
 * Concurrent calls to `scrape()` share the collection in flight.
 */
export class Scraper {
  readonly #collectors: ReadonlyMap<string, Collector>;
  readonly #log: Logger;
  #inFlight: Promise<string> | undefined;

  constructor(options: ScraperOptions) {
    this.#collectors = options.collectors;
    this.#log = options.log;
  }

  /** The text exposition of one collection; joins the one in flight if there is one. */
  scrape(): Promise<string> {
    this.#inFlight ??= this.collect().then(renderFamilies).finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  /** Every family of one collection, with node_scrape_collector_{success,duration_seconds}. */
  async collect(): Promise<MetricFamily[]> {
    const success: MetricFamily = { name: 'node_scrape_collector_success', help: 'node_exporter: Whether a collector succeeded.', type: 'gauge', samples: [] };
    const duration: MetricFamily = { name: 'node_scrape_collector_duration_seconds', help: 'node_exporter: Duration of a collector scrape.', type: 'gauge', samples: [] };
    const results = await Promise.all([...this.#collectors].map(async ([name, collector]) => {
      const start = performance.now();
      try {
        return { name, ok: 1, families: await collector.collect(), seconds: (performance.now() - start) / 1000 };
      } catch (err) {
        this.#log.error({ collector: name, err }, 'collector failed');
        return { name, ok: 0, families: [], seconds: (performance.now() - start) / 1000 };
      }
    }));
    for (const r of results) {
      success.samples.push({ labels: { collector: r.name }, value: r.ok });
      duration.samples.push({ labels: { collector: r.name }, value: r.seconds });
    }
    return [...results.flatMap((r) => r.families), success, duration];
  }
}
