import { app } from '@azure/functions';
import { createLogger } from '../src/sync/logger.js';
import { settingValuesOf } from '../src/sync/redaction.js';
import { warmUpEndpoints } from '../src/webhook/warmUp.js';

// At worker start, not at module load: the storage, the webhook runner and the Graph token are
// readied so that the first webhook after a cold start does not wait for them (src/webhook/warmUp.ts).
app.hook.appStart(async () => {
  const logger = createLogger({ settings: settingValuesOf(process.env, process.cwd()), write: (level, m, f) => console[level](f === undefined ? m : `${m} ${JSON.stringify(f)}`) });
  await warmUpEndpoints({ logger });
});
