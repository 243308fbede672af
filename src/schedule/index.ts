// Schedules: when peers communicate and how much, as pure functions of the round. See docs/schedules.md.
export { budget, budgetAt, budgetForRound, equalBudget, roundProgress, scaleBudget, totalBudget, type BudgetSpec } from './budget.js';
export { communicateEvery, gossipStepsPerRound, mergeAt, type MergeSpec } from './cadence.js';
export { budgetSpecSchema, buildSchedule, parseScheduleSpec, scheduleSpecSchema, type RoundPlan, type Schedule, type ScheduleSpec } from './spec.js';
