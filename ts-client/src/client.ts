// Connecting to a tfgrid chain with CosmJS: the registry and amino types that know tfgrid's Msgs,
// a signing client using them, the typed query clients of the three modules, and module errors.
import { AminoTypes, createDefaultAminoConverters, defaultRegistryTypes, QueryClient, SigningStargateClient, createProtobufRpcClient } from "@cosmjs/stargate";
import type { DeliverTxResponse, SigningStargateClientOptions } from "@cosmjs/stargate";
import { Registry } from "@cosmjs/proto-signing";
import type { OfflineSigner } from "@cosmjs/proto-signing";
import { connectComet } from "@cosmjs/tendermint-rpc";
import type { CometClient } from "@cosmjs/tendermint-rpc";
import { fromHex } from "@cosmjs/encoding";

import { tfgridAminoConverters, tfgridMsgTypes } from "./generated/tfgrid-msgs";
import { QueryClientImpl as BillingQueryClient } from "./generated/tfgrid/billing/v1/query";
import { QueryClientImpl as SmartcontractQueryClient } from "./generated/tfgrid/smartcontract/v1/query";
import { QueryClientImpl as TfgridQueryClient } from "./generated/tfgrid/tfgrid/v1/query";

/** Bech32 prefix of tfgrid account addresses. */
export const ACCOUNT_PREFIX = "tf";
/** Fee and staking denom: 1 TFT = 1,000,000 utft. */
export const DENOM = "utft";

/** tfgridRegistry knows the SDK's standard Msgs and every tfgrid Msg (SIGN_MODE_DIRECT). */
export function tfgridRegistry(): Registry {
  return new Registry([...defaultRegistryTypes, ...tfgridMsgTypes]);
}

/** tfgridAminoTypes converts the SDK's standard Msgs and every tfgrid Msg to amino JSON (SIGN_MODE_LEGACY_AMINO_JSON, Ledger). */
export function tfgridAminoTypes(): AminoTypes {
  return new AminoTypes({ ...createDefaultAminoConverters(), ...tfgridAminoConverters });
}

/** The typed query clients of tfgrid's modules. */
export interface TfgridQueries {
  readonly tfgrid: TfgridQueryClient;
  readonly smartcontract: SmartcontractQueryClient;
  readonly billing: BillingQueryClient;
}

/** tfgridQueries are the modules' query clients over a CometBFT RPC connection (ABCI queries). */
export function tfgridQueries(comet: CometClient): TfgridQueries {
  const rpc = createProtobufRpcClient(new QueryClient(comet));
  return {
    tfgrid: new TfgridQueryClient(rpc),
    smartcontract: new SmartcontractQueryClient(rpc),
    billing: new BillingQueryClient(rpc),
  };
}

/** A connection to a tfgrid node: a signing client with tfgrid's registry and amino types, and the query clients. */
export interface TfgridClient {
  readonly signing: SigningStargateClient;
  readonly query: TfgridQueries;
  readonly comet: CometClient;
  /** txError is the module error of a failed DeliverTx result, or undefined when it succeeded. */
  txError(result: DeliverTxResponse): Promise<ModuleError | undefined>;
  disconnect(): void;
}

/**
 * connectTfgrid connects to a node's CometBFT RPC endpoint (e.g. "http://127.0.0.1:26657") with a
 * signer; the signer's algorithm decides the sign mode (OfflineDirectSigner: SIGN_MODE_DIRECT,
 * OfflineAminoSigner such as a Ledger: SIGN_MODE_LEGACY_AMINO_JSON). registry and aminoTypes are
 * tfgrid's unless given; "auto" fees need options.gasPrice (e.g. GasPrice.fromString("0.025utft")).
 */
export async function connectTfgrid(endpoint: string, signer: OfflineSigner, options: SigningStargateClientOptions = {}): Promise<TfgridClient> {
  const comet = await connectComet(endpoint);
  const signing = SigningStargateClient.createWithSigner(comet, signer, {
    registry: tfgridRegistry(),
    aminoTypes: tfgridAminoTypes(),
    ...options,
  });
  return {
    signing,
    query: tfgridQueries(comet),
    comet,
    txError: (result) => txError(comet, result),
    disconnect: () => signing.disconnect(),
  };
}

/**
 * ModuleError is a registered error of a chain module: codespace (the module, e.g. "tfgrid",
 * "smartcontract", "billing", "sdk") and its code there, with the chain's log naming the ids involved.
 */
export class ModuleError extends Error {
  constructor(
    readonly codespace: string,
    readonly code: number,
    readonly log: string,
  ) {
    super(`${codespace} error ${code}: ${log}`);
    this.name = "ModuleError";
  }
}

/**
 * txError reads the codespace of a failed tx from the node (CosmJS's DeliverTxResponse carries only
 * the code); undefined when the tx succeeded.
 */
export async function txError(comet: CometClient, result: DeliverTxResponse): Promise<ModuleError | undefined> {
  if (result.code === 0) return undefined;
  const tx = await comet.tx({ hash: fromHex(result.transactionHash) });
  return new ModuleError(tx.result.codespace ?? "", tx.result.code, tx.result.log ?? result.rawLog ?? "");
}
