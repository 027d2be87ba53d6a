// Preloaded with --import: reports the process's peak RSS (KiB) on stderr at exit, for the benchmarks.
process.on('exit', () => process.stderr.write(`\npeak-rss-kb ${process.resourceUsage().maxRSS}\n`));
