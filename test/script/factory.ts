// The system under test for the corpus: scripts that open IPPROTO_MPTCP sockets run on the
// MPTCP endpoint (core/mptcp), the others on the plain-TCP engine (core/tcp TcpHost).
import { combinedFactory, mptcpSutFactory, tcpSutFactory } from "../../adapters/script/index.ts";
import type { SutFactory } from "../../adapters/script/index.ts";

export const corpusFactory: SutFactory = combinedFactory(tcpSutFactory, mptcpSutFactory);
