/**
 * How the PDF renderer's Chromium reads a page as the reader class it renders for. A render gets a
 * random 256-bit ticket, sent by Chromium in the `X-Lakebook-Render` header of every request it
 * makes to this server, and valid only while that render runs and only from the machine itself.
 * The ticket's principal is a synthetic user with the reader's role and groups (never a session:
 * nothing can be changed with it), so a PDF shows exactly what readers of that kind may see.
 */
import { randomBytes } from "node:crypto";
import type { Principal } from "../auth/accessControl.ts";

export const RENDER_HEADER = "x-lakebook-render";

export interface RenderTickets {
  /** A ticket for `principal`, until `revoke` is called. */
  issue(principal: Principal): { readonly token: string; revoke(): void };
  /**
   * The principal of a live ticket sent from this machine (a loopback address, or the address
   * the server was reached at), else undefined.
   */
  principalOf(
    header: string | undefined,
    remoteAddress: string | undefined,
    localAddress: string | undefined,
  ): Principal | undefined;
}

export function createRenderTickets(): RenderTickets {
  const live = new Map<string, Principal>();
  return {
    issue(principal) {
      const token = randomBytes(32).toString("base64url");
      live.set(token, principal);
      return { token, revoke: () => live.delete(token) };
    },
    principalOf(header, remoteAddress, localAddress) {
      if (header === undefined || live.size === 0) return undefined;
      if (!isLoopback(remoteAddress) && remoteAddress !== localAddress) return undefined;
      return live.get(header);
    },
  };
}

export function isLoopback(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}
