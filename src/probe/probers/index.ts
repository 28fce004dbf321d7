// Every prober, by the name a module's `prober = "..."` uses. This map is the only list.
import type { Prober } from '../types.ts';
import { dns } from './dns.ts';
import { grpc } from './grpc.ts';
import { http } from './http.ts';
import { icmp } from './icmp.ts';
import { tcp } from './tcp.ts';
import { tls } from './tls.ts';

export const probers = { http, tcp, icmp, dns, tls, grpc } satisfies Record<string, Prober>;

export type ProberName = keyof typeof probers;
export const proberNames = Object.keys(probers) as ProberName[];
