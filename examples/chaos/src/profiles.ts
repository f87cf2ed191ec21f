import { InvalidOptionError, validate } from '@goreliable/core'

/** The two built-in profiles: `short` for CI (a few minutes for the suite), `full` for people. */
export const PROFILE_NAMES = ['short', 'full'] as const

/** One of {@link PROFILE_NAMES}. */
export type ProfileName = (typeof PROFILE_NAMES)[number]

/** How long each phase of an experiment lasts, and how hard the load pushes. */
export interface ProfileSettings {
  /** `short`, `full`, or a name of your own. */
  name: string
  /** Load before the fault, to see the service healthy first. */
  warmupMs: number
  /** From the start of `fault()` to the start of `heal()`. */
  faultMs: number
  /** After `heal()`, the recovery phase ends once the service has recovered and `minRecoverMs` passed ... */
  minRecoverMs: number
  /** ... or at the latest after this long. */
  recoverMs: number
  /** How long requests must keep succeeding for a recovery to count (see `timeToRecover`). */
  sustainMs: number
  /** Offered load, when the experiment's load sets neither a rate nor a concurrency. */
  ratePerSecond: number
}

/** Every key of {@link ProfileSettings}. */
export const profileSettingsKeys = [
  'name',
  'warmupMs',
  'faultMs',
  'minRecoverMs',
  'recoverMs',
  'sustainMs',
  'ratePerSecond',
] as const

/**
 * The built-in profiles. `short` keeps each experiment under half a minute (five experiments and their
 * set-ups fit in a few minutes of CI) while leaving room for the slowest expectation, a recovery within
 * 15 s of a healed partition; `full` holds each fault for half a minute under a heavier load.
 */
export const PROFILES: Readonly<Record<ProfileName, Readonly<ProfileSettings>>> = {
  short: {
    name: 'short',
    warmupMs: 2000,
    faultMs: 5000,
    minRecoverMs: 3000,
    recoverMs: 20_000,
    sustainMs: 2000,
    ratePerSecond: 20,
  },
  full: {
    name: 'full',
    warmupMs: 10_000,
    faultMs: 30_000,
    minRecoverMs: 10_000,
    recoverMs: 60_000,
    sustainMs: 5000,
    ratePerSecond: 50,
  },
}

/** A built-in profile by name, or validated custom settings (missing keys taken from `short`). */
export function resolveProfile(
  profile: ProfileName | Partial<ProfileSettings>,
  where = 'profile',
): ProfileSettings {
  if (typeof profile === 'string') {
    const name = validate.requireOneOf(where, profile, PROFILE_NAMES)
    return { ...PROFILES[name] }
  }
  const o = validate.requireObject(where, profile)
  validate.rejectUnknownKeys(where, o, profileSettingsKeys)
  const base = PROFILES.short
  const ms = (key: Exclude<keyof ProfileSettings, 'name'>, min = 0) =>
    validate.optionalNumber(`${where}.${key}`, o[key], base[key], { min })
  const settings: ProfileSettings = {
    name: validate.optionalString(`${where}.name`, o.name, 'custom'),
    warmupMs: ms('warmupMs'),
    faultMs: ms('faultMs'),
    minRecoverMs: ms('minRecoverMs'),
    recoverMs: ms('recoverMs'),
    sustainMs: ms('sustainMs'),
    ratePerSecond: ms('ratePerSecond', 0.1),
  }
  if (settings.recoverMs < settings.minRecoverMs) {
    throw new InvalidOptionError(`${where}.recoverMs`, 'a time >= minRecoverMs', settings.recoverMs)
  }
  return settings
}
