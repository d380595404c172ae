/** The run's time budget: after the deadline, no new work starts and no retry waits. */
export class TimeBudget {
  readonly deadline: number | undefined;
  constructor(
    budgetMs: number | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.deadline = budgetMs === undefined ? undefined : now() + budgetMs;
  }

  exhausted(): boolean {
    return this.deadline !== undefined && this.now() >= this.deadline;
  }
}
