// The system under test for the corpus: the plain-TCP engine for IPPROTO_TCP sockets. Scripts
// that open IPPROTO_MPTCP sockets are skipped until the MPTCP endpoint binding exists.
import { tcpSutFactory } from "../../adapters/script/index.ts";
import type { SutFactory } from "../../adapters/script/index.ts";

export const corpusFactory: SutFactory = tcpSutFactory;
