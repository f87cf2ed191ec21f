// The currencies an order may be in. Only ISO 4217 currencies with two minor units are listed, so an
// amount is always in cents (hundredths): 12.34 EUR is `1234`, whatever the currency.

/** ISO 4217 codes the order service accepts, all with two minor units. */
export const CURRENCIES = [
  'AED',
  'AUD',
  'BGN',
  'BRL',
  'CAD',
  'CHF',
  'CNY',
  'CZK',
  'DKK',
  'EUR',
  'GBP',
  'HKD',
  'ILS',
  'INR',
  'MXN',
  'MYR',
  'NOK',
  'NZD',
  'PHP',
  'PLN',
  'RON',
  'SAR',
  'SEK',
  'SGD',
  'THB',
  'TRY',
  'USD',
  'ZAR',
] as const

/** One of {@link CURRENCIES}. */
export type Currency = (typeof CURRENCIES)[number]

/** Smallest order amount, in cents. */
export const MIN_AMOUNT_CENTS = 100

/** Largest order amount, in cents. */
export const MAX_AMOUNT_CENTS = 10_000_000
