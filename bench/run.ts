/** The benchmarks of `make bench`, one after another. */
await import('./ingest-throughput.js');
await import('./aggregator-throughput.js');
await import('./query-latency.js');
