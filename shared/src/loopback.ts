/**
 * Whether an address never leaves its machine. The relay flags client packages whose address is
 * loopback (no other machine can dial it); the agent stays quiet about plain ws:// to loopback
 * (nothing crosses a network). One definition for both sides.
 */

/** True for `localhost`, 127.0.0.0/8 and `[::1]` (a URL's `hostname`; a trailing dot allowed). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  const octets = host.split('.');
  return (
    octets.length === 4 &&
    octets[0] === '127' &&
    octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255)
  );
}
