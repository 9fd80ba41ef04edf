/**
 * External Term Format: the byte encoding Erlang nodes use for every term they
 * exchange. Encoder and decoder live in their own modules; this one gathers them.
 */
export { Tag } from './etf-tags';
export { EtfWriter, encodeTerm } from './etf-encode';
export {
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DEFAULT_MAX_DEPTH,
  decodeTerm,
  decodeTermAt,
  type DecodeOptions,
} from './etf-decode';
