// How chain values read on the page: balances in the chain's token, shares as percentages,
// accounts and hashes shortened (the whole value in the tooltip), bytes as text or hex.
import { h } from './dom.js';

/** Fraction digits a balance keeps: enough to see block rewards (1/3 TIC) move. */
const BALANCE_DIGITS = 4;

/** `plancks` (a bigint) in whole tokens of `token` ({ decimals, symbol }), e.g. `1,000.3333 TIC`. */
export function balance(plancks, token) {
  const unit = 10n ** BigInt(token.decimals);
  const whole = (plancks / unit).toLocaleString('en-US');
  const fraction = (plancks % unit).toString().padStart(token.decimals, '0')
    .slice(0, BALANCE_DIGITS).replace(/0+$/, '');
  return `${whole}${fraction ? `.${fraction}` : ''} ${token.symbol}`;
}

/** A Perbill's parts per billion as a percentage, e.g. `12.5 %`. */
export function perbill(parts) {
  return `${Number((Number(parts) / 1e7).toFixed(4))} %`;
}

/** `text` cut to its first and last `keep` characters when longer. */
function shorten(text, keep) {
  return text.length > 2 * keep + 1 ? `${text.slice(0, keep)}…${text.slice(-keep)}` : text;
}

/** An account: its SS58 address shortened, the whole one in the tooltip and `data-address`. */
export function account(address) {
  const text = address.toString();
  return h('code', { title: text, 'data-address': text }, shorten(text, 6));
}

/** A hash or other hex value, shortened, the whole one in the tooltip. */
export function hash(hex) {
  const text = hex.toString();
  return h('code', { title: text }, shorten(text, 8));
}

/** The first `bytes` bytes of `u8a` as hex, with `…` when there is more. */
export function hexPrefix(u8a, bytes) {
  const hex = Array.from(u8a.subarray(0, bytes), (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `0x${hex}${u8a.length > bytes ? '…' : ''}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `u8a` as quoted text when it is printable UTF-8, else as a hex prefix. */
export function bytes(u8a, hexBytes = 16) {
  try {
    const text = utf8.decode(u8a);
    // Control characters other than whitespace mean binary data that happens to decode.
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return JSON.stringify(text);
  } catch {
    // not UTF-8: shown as hex below
  }
  return hexPrefix(u8a, hexBytes);
}

/** A yes/no cell. */
export function flag(value) {
  return value ? 'yes' : 'no';
}
