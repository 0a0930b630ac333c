// Value conversions of the amino JSON encoding, as the chain's encoder (cosmos-sdk
// x/tx/signing/aminojson) writes them. The generated converters (generated/tfgrid-msgs.ts) call
// these; each fromAmino helper names the offending value when a document does not fit.
import { fromBase64, toBase64 } from "@cosmjs/encoding";

/** A message in amino JSON: field name → value. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AminoValue = Record<string, any>;

/** Decimal places of cosmossdk.io/math.LegacyDec: on the protobuf wire a LegacyDec is its value × 10^18. */
export const DEC_PRECISION = 18;
const DEC_SCALE = BigInt(10) ** BigInt(DEC_PRECISION);
const DEC_PATTERN = /^(-)?(\d+)(?:\.(\d+))?$/;
const INT_PATTERN = /^-?\d+$/;

/**
 * decFromString turns a decimal ("1.5", "-0.25", "3") into LegacyDec's protobuf wire form, an
 * integer string scaled by 10^18 ("1500000000000000000"). More than 18 decimals is an error.
 */
export function decFromString(decimal: string): string {
  const m = DEC_PATTERN.exec(decimal.trim());
  if (!m) throw new Error(`invalid decimal ${JSON.stringify(decimal)}: want digits with an optional . and up to ${DEC_PRECISION} decimals`);
  const [, sign, whole, frac = ""] = m;
  if (frac.length > DEC_PRECISION) {
    throw new Error(`invalid decimal ${JSON.stringify(decimal)}: more than ${DEC_PRECISION} decimals`);
  }
  const scaled = BigInt(whole) * DEC_SCALE + BigInt(frac.padEnd(DEC_PRECISION, "0"));
  return (sign && scaled !== BigInt(0) ? -scaled : scaled).toString();
}

/** decToString turns LegacyDec's wire form back into a decimal with 18 places, like LegacyDec.String(). */
export function decToString(wire: string): string {
  if (!INT_PATTERN.test(wire)) throw new Error(`invalid LegacyDec wire value ${JSON.stringify(wire)}: want an integer scaled by 10^${DEC_PRECISION}`);
  const v = BigInt(wire);
  const abs = v < BigInt(0) ? -v : v;
  const whole = abs / DEC_SCALE;
  const frac = (abs % DEC_SCALE).toString().padStart(DEC_PRECISION, "0");
  return `${v < BigInt(0) ? "-" : ""}${whole}.${frac}`;
}

/** decToAmino: the chain writes an unset LegacyDec as "0", any other as LegacyDec.String(). */
export function decToAmino(wire: string): string {
  return wire === "" ? "0" : decToString(wire);
}

/** decFromAmino inverts decToAmino: "0" is only written for an unset LegacyDec (a set zero is "0.000000000000000000"). */
export function decFromAmino(v: unknown): string {
  const s = stringFromAmino(v);
  return s === "" || s === "0" ? "" : decFromString(s);
}

/** intToAmino: the chain writes an unset math.Int as "0", any other as is. */
export function intToAmino(wire: string): string {
  return wire === "" ? "0" : wire;
}

export function bytesToAmino(b: Uint8Array): string {
  return toBase64(b);
}

export function bytesFromAmino(v: unknown): Uint8Array {
  return v == null ? new Uint8Array(0) : fromBase64(stringFromAmino(v));
}

export function stringFromAmino(v: unknown): string {
  if (v == null) return "";
  if (typeof v !== "string") throw new Error(`amino value ${show(v)}: want a string`);
  return v;
}

export function boolFromAmino(v: unknown): boolean {
  if (v == null) return false;
  if (typeof v !== "boolean") throw new Error(`amino value ${show(v)}: want a boolean`);
  return v;
}

export function numberFromAmino(v: unknown): number {
  if (v == null) return 0;
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`amino value ${show(v)}: want an integer number`);
  return v;
}

/** bigintFromAmino reads a 64-bit integer, which amino JSON writes as a decimal string. */
export function bigintFromAmino(v: unknown): bigint {
  if (v == null) return BigInt(0);
  if (typeof v !== "string" || !INT_PATTERN.test(v)) throw new Error(`amino value ${show(v)}: want a decimal integer string`);
  return BigInt(v);
}

/** show renders a value for an error message (JSON.stringify throws on a bigint). */
function show(v: unknown): string {
  return typeof v === "bigint" ? `${v}n` : JSON.stringify(v);
}

export function objectFromAmino(v: unknown): AminoValue {
  if (v == null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new Error(`amino value ${show(v)}: want an object`);
  return v as AminoValue;
}

export function listFromAmino(v: unknown): unknown[] {
  if (v == null) return [];
  if (!Array.isArray(v)) throw new Error(`amino value ${show(v)}: want a list`);
  return v;
}
