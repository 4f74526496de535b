// The `discovery:` block: where the server announces itself over mDNS. On or off is the `mdns`
// option (--no-mdns, EDGECAM_MDNS, `mdns: false` in a file), like http is.
import { z } from 'zod';

export const discoveryConfigSchema = z.strictObject({
  /** Announce on this interface only (its name, or one of its IPv4 addresses); default every interface. */
  interface: z
    .string()
    .regex(/^[A-Za-z0-9._:@-]{1,64}$/, 'must be an interface name such as eth0, or one of its IPv4 addresses')
    .optional()
    .describe('announce on this interface only (eth0, wlan0, or one of its IPv4 addresses); default: every interface'),
});

export type DiscoveryConfig = z.output<typeof discoveryConfigSchema>;
