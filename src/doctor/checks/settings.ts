import { isConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/loadConfig.js';
import { resultOf, type DoctorCheck } from '../context.js';

/** The settings parse and agree (the same validation every run does first). */
export const settingsCheck: DoctorCheck = {
  id: 'settings',
  title: 'Settings are valid',
  async run(context) {
    try {
      const config = loadConfig(context.options.env, { cwd: context.options.cwd });
      context.facts.config = config;
      return resultOf(this, 'pass', `LMS_ADAPTER=${config.lms.adapter}, GRAPH_AUTH=${config.graph.auth.kind}, LEARNER_MATCH=${config.learnerMatch}, SYNC_MODE=${config.mode}`);
    } catch (err) {
      if (!isConfigError(err)) throw err;
      const names = [...new Set(err.problems.map((p) => p.setting))];
      return resultOf(this, 'fail', err.message, `set ${names.join(', ')} as README.md "Settings" describes (locally: local.settings.json Values; in Azure: \`azd env set NAME VALUE\` then \`azd provision\`, or the Function App's Environment variables)`);
    }
  },
};
