export { type Command, parseCommand, usage } from './cli.js'
export { type RunLoadOptions, runLoad } from './run-load.js'
export {
  describeStages,
  fullStages,
  laptopStages,
  parseDuration,
  parseStages,
  planSlots,
  type Slot,
  type Stage,
  totalSeconds,
} from './stages.js'
export {
  evaluateThresholds,
  formatReport,
  type LoadStats,
  percentile,
  type ThresholdResult,
  thresholds,
} from './thresholds.js'
export { fetchToken, keepToken, type Token, type TokenKeeper } from './token.js'
