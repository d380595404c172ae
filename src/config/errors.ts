/** One bad setting: its name and what is wrong, never its value when it is a secret. */
export interface SettingProblem {
  readonly setting: string;
  readonly problem: string;
}

/** Settings failed validation. The message names every bad setting on one line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly SettingProblem[];
  constructor(problems: readonly SettingProblem[]) {
    super(`Invalid settings: ${problems.map((p) => `${p.setting} ${p.problem}`).join('; ')}`);
    this.problems = problems;
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof Error && err.name === 'ConfigError';
}
