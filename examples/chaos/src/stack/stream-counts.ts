// Counts per subject in the run's private JetStream stream: how many order events were stored, and whether
// anything reached the worker's dead-letter subject (it must not, whatever the provider did).

import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'

/** Messages per subject of the stream, for the subjects under `filter`. */
export async function streamSubjectCounts(
  natsUrl: string,
  stream: string,
  filter: string,
): Promise<Record<string, number>> {
  const nc = await connect({ servers: natsUrl, reconnect: false, timeout: 3000 })
  try {
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info(stream, { subjects_filter: filter })
    return { ...(info.state.subjects ?? {}) }
  } finally {
    await nc.close()
  }
}

/** The worker's dead-letter subject (its default; the chaos stack does not change it). */
export const DEAD_LETTER_SUBJECT = 'orders.dead_letter.notification-worker'

/** Messages on the dead-letter subject of `ORDERS`. */
export async function deadLetterCount(natsUrl: string): Promise<number> {
  const counts = await streamSubjectCounts(natsUrl, 'ORDERS', 'orders.dead_letter.>')
  return Object.values(counts).reduce((a, b) => a + b, 0)
}
