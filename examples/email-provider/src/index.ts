export {
  type FaultPatch,
  type FaultState,
  healthyFaults,
  maxLatencyMs,
  type OutageMode,
} from './faults.js'
export type {
  DeliveredMessage,
  DeliveryStats,
  ListedMessage,
  MessageInput,
  MessageList,
} from './message-store.js'
export {
  createEmailProvider,
  createEmailProviderOptionKeys,
  EmailProviderOptionError,
  type EmailProviderOptions,
} from './provider.js'
