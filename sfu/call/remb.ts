/**
 * REMB (draft-alvestrand-rmcat-remb-03 §2.2): the bitrate is sent as an 18-bit mantissa and a
 * 6-bit exponent, bitrate = mantissa * 2^exp. werift's serializer writes the two fields as given,
 * so they are computed here. Pure.
 */
export function rembFields(bitrateBps: number): { brExp: number; brMantissa: number } {
  let mantissa = Math.max(0, Math.floor(bitrateBps));
  let exp = 0;
  while (mantissa > 0x3ffff) {
    mantissa >>>= 1;
    exp++;
  }
  return { brExp: exp, brMantissa: mantissa };
}
