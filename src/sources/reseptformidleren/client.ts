// How Helsebro talks to Reseptformidleren. Two implementations share this interface: the live HTTP client
// below and the demo stand-in (demo-store.ts). Both hand back the raw answer document as RF would send it;
// it is read and validated once, in parse.ts, for both.
//
// The live client posts the query message (M9.7, M9.1) to the operator's gateway to RF and reads the
// answer (M9.8, M9.2) from the response body. RF itself exchanges these messages asynchronously over the
// national message infrastructure; the gateway that turns the pair into one request and answer is the
// deployment's (RESEPTFORMIDLEREN_BASE_URL), and each call has Helsebro's deadline around it.
import { randomUUID } from 'node:crypto';
import { joinUrl, postXml, type HeaderProvider } from '../http.ts';
import { buildM91, buildM97 } from './messages.ts';
import { M92_MAX_BYTES, M98_MAX_BYTES, type RfReply } from './parse.ts';
import type { RfSender } from './types.ts';

export interface ReseptformidlerenClient {
  /** M9.7 -> M9.8: RF's count of dispensings on the prescription with this ReseptId. */
  dispensings(reseptId: string, signal: AbortSignal): Promise<RfReply>;
  /** M9.1 -> M9.2: the patient's prescriptions (by fødselsnummer or D-nummer) and their status. */
  prescriptionList(nin: string, signal: AbortSignal): Promise<RfReply>;
}

export interface RfHttpOptions {
  baseUrl: string;
  /** Who asks: the Norwegian NCP (NCP_HER_ID, NCP_ORGNR, NCP_NAME). */
  sender: RfSender;
  /** Authorization and other headers the gateway needs. */
  headers?: HeaderProvider;
  newMsgId?: () => string;
  now?: () => Date;
}

export function reseptformidlerenHttpClient(opts: RfHttpOptions): ReseptformidlerenClient {
  const envelope = () => ({ msgId: (opts.newMsgId ?? randomUUID)(), now: opts.now?.() ?? new Date() });
  // The identity number travels in the message body, never in the URL: URLs end up in access logs.
  const send = async (path: string, body: string, msgId: string, maxBytes: number, signal: AbortSignal): Promise<RfReply> => {
    const xml = await postXml(joinUrl(opts.baseUrl, path), { body, maxBytes, signal, headers: { 'x-message-id': msgId, ...(await opts.headers?.()) } });
    return { xml, inReplyTo: msgId };
  };
  return {
    dispensings(reseptId, signal) {
      const env = envelope();
      return send('m97', buildM97(reseptId, opts.sender, env), env.msgId, M98_MAX_BYTES, signal);
    },
    prescriptionList(nin, signal) {
      const env = envelope();
      return send('m91', buildM91(nin, opts.sender, env), env.msgId, M92_MAX_BYTES, signal);
    },
  };
}
