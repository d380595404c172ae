import { sync } from '../src/cli/main.js';
import { silentLogger } from '../src/sync/logger.js';

/**
 * One product run for the benchmark, in its own process so that its peak memory is its own
 * (the Graph stand-in and Azurite live in the parent). Prints one JSON line.
 */
const full = process.argv.includes('--full');
const summary = await sync({ env: process.env, cwd: process.cwd(), logger: silentLogger, full, trigger: 'bench' });
process.stdout.write(`${JSON.stringify({ summary, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
