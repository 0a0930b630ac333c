// The client against a real chain (started by tsclient_test.go): twins, farms, a node and node
// contracts created with SIGN_MODE_DIRECT and with SIGN_MODE_LEGACY_AMINO_JSON (an amino-only
// signer, as a Ledger is), queried back with the typed query clients; a module error's codespace and code.
import { createHash } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectSecp256k1Wallet } from "@cosmjs/proto-signing";
import type { OfflineSigner } from "@cosmjs/proto-signing";
import { Secp256k1Wallet } from "@cosmjs/amino";
import { fromHex } from "@cosmjs/encoding";
import type { DeliverTxResponse, StdFee } from "@cosmjs/stargate";

import { ACCOUNT_PREFIX, connectTfgrid, ModuleError, TfgridClient, smartcontract, tfgrid } from "../src";

const rpc = process.env.TFGRID_RPC;
const keys = JSON.parse(process.env.TFGRID_KEYS ?? "{}") as Record<string, string>;
const fee: StdFee = { amount: [], gas: "1000000" }; // fixed gas: a failing tx reaches the chain

async function account(name: string, amino: boolean): Promise<{ client: TfgridClient; address: string }> {
  if (!rpc || !keys[name]) throw new Error("TFGRID_RPC and TFGRID_KEYS are not set: run these tests through go test ./ts-client/");
  const key = fromHex(keys[name]);
  const signer: OfflineSigner = amino ? await Secp256k1Wallet.fromKey(key, ACCOUNT_PREFIX) : await DirectSecp256k1Wallet.fromKey(key, ACCOUNT_PREFIX);
  const [{ address }] = await signer.getAccounts();
  return { client: await connectTfgrid(rpc, signer), address };
}

/** defined returns a response's message field, which ts-proto types as optional. */
function defined<T>(v: T | undefined, what: string): T {
  assert.ok(v !== undefined, `${what} missing from the response`);
  return v;
}

/** deploymentHash stands for a deployment's hash: 64 lowercase hex characters. */
function deploymentHash(seed: string): string {
  return createHash("sha256").update(seed).digest("hex");
}

function ok(res: DeliverTxResponse): DeliverTxResponse {
  assert.equal(res.code, 0, `tx failed: ${res.rawLog}`);
  return res;
}

test("create and query tfgrid objects with direct and amino signing", async (t) => {
  const operator = await account("operator", false);
  t.after(() => operator.client.disconnect());
  const resources = { cru: BigInt(8), sru: BigInt(512) << BigInt(30), hru: BigInt(0), mru: BigInt(16) << BigInt(30) };

  // The operator's farm and node, on which both users then deploy.
  ok(await operator.client.signing.signAndBroadcast(operator.address, [
    { typeUrl: "/tfgrid.tfgrid.v1.MsgCreateTwin", value: tfgrid.MsgCreateTwin.fromPartial({ creator: operator.address, relays: ["wss://relay.example.org"] }) },
  ], fee));
  const opTwin = defined((await operator.client.query.tfgrid.TwinByAccount({ address: operator.address })).twin, "twin");
  assert.equal(opTwin.account, operator.address);

  for (const mode of ["direct", "amino"] as const) {
    await t.test(`${mode} signing`, async () => {
      const user = await account(mode, mode === "amino");
      try {
        // twin
        ok(await user.client.signing.signAndBroadcast(user.address, [
          { typeUrl: "/tfgrid.tfgrid.v1.MsgCreateTwin", value: tfgrid.MsgCreateTwin.fromPartial({ creator: user.address, relays: [`wss://${mode}.example.org`] }) },
        ], fee, `twin by ${mode}`));
        const twin = defined((await user.client.query.tfgrid.TwinByAccount({ address: user.address })).twin, "twin");
        assert.equal(twin.account, user.address);
        assert.deepEqual(twin.relays, [`wss://${mode}.example.org`]);

        // farm with a public IP (a nested, repeated message)
        const farmName = `farm-${mode}`;
        ok(await user.client.signing.signAndBroadcast(user.address, [
          {
            typeUrl: "/tfgrid.tfgrid.v1.MsgCreateFarm",
            value: tfgrid.MsgCreateFarm.fromPartial({ creator: user.address, name: farmName, publicIps: [{ ip: mode === "direct" ? "185.206.122.33/24" : "185.206.123.33/24", gateway: mode === "direct" ? "185.206.122.1" : "185.206.123.1" }] }),
          },
        ], fee));
        const farm = defined((await user.client.query.tfgrid.FarmByName({ name: farmName })).farm, "farm");
        assert.equal(farm.name, farmName);
        assert.equal(farm.twinId, twin.id);
        const ips = await user.client.query.tfgrid.FarmPublicIps({ id: farm.id, freeOnly: false });
        assert.equal(ips.publicIps.length, 1);
        const free = await user.client.query.tfgrid.FarmPublicIps({ id: farm.id, freeOnly: true });
        assert.equal(free.publicIps.length, 1, "the new IP is free");
        ok(await user.client.signing.signAndBroadcast(user.address, [
          { typeUrl: "/tfgrid.tfgrid.v1.MsgSetFarmOpenRegistration", value: tfgrid.MsgSetFarmOpenRegistration.fromPartial({ creator: user.address, farmId: farm.id, open: true }) },
        ], fee));
      } finally {
        user.client.disconnect();
      }
    });
  }

  // The operator's node joins the direct user's farm (open registration).
  const directFarm = defined((await operator.client.query.tfgrid.FarmByName({ name: "farm-direct" })).farm, "farm");
  ok(await operator.client.signing.signAndBroadcast(operator.address, [
    {
      typeUrl: "/tfgrid.tfgrid.v1.MsgCreateNode",
      value: tfgrid.MsgCreateNode.fromPartial({ creator: operator.address, farmId: directFarm.id, resources, location: { city: "Ghent", country: "Belgium", latitude: "51.05", longitude: "3.72" } }),
    },
  ], fee));
  const node = defined((await operator.client.query.tfgrid.NodeByTwin({ twinId: opTwin.id })).node, "node");
  assert.equal(node.farmId, directFarm.id);

  for (const mode of ["direct", "amino"] as const) {
    await t.test(`${mode} signing: node contract`, async () => {
      const user = await account(mode, mode === "amino");
      try {
        const res = ok(await user.client.signing.signAndBroadcast(user.address, [
          {
            typeUrl: "/tfgrid.smartcontract.v1.MsgCreateNodeContract",
            value: smartcontract.MsgCreateNodeContract.fromPartial({
              creator: user.address, nodeId: node.id, deploymentHash: deploymentHash(mode), publicIpsCount: mode === "direct" ? 1 : 0,
              resources: { cru: BigInt(1), mru: BigInt(1) << BigInt(30), sru: BigInt(2) << BigInt(30) },
              maxUtftPerHour: BigInt("18446744073709551615"), // uint64 max: no precision lost on the way
            }),
          },
        ], fee));
        const created = res.msgResponses.map((r) => smartcontract.MsgCreateNodeContractResponse.decode(r.value));
        assert.equal(created.length, 1);
        const contract = defined((await user.client.query.smartcontract.Contract({ id: created[0].contractId })).contract, "contract");
        assert.equal(contract.nodeContract?.nodeId, node.id);
        assert.equal(contract.nodeContract?.deploymentHash, deploymentHash(mode));
        assert.equal(contract.nodeContract?.maxUtftPerHour, BigInt("18446744073709551615"));
        assert.equal(contract.nodeContract?.publicIps.length ?? 0, mode === "direct" ? 1 : 0);
        const bill = await user.client.query.billing.Contract({ id: created[0].contractId });
        assert.equal(defined(bill.billing, "billing").contractId, created[0].contractId);
      } finally {
        user.client.disconnect();
      }
    });
  }

  await t.test("a module error's codespace and code", async () => {
    for (const mode of ["direct", "amino"] as const) {
      const user = await account(mode, mode === "amino");
      try {
        const res = await user.client.signing.signAndBroadcast(user.address, [
          { typeUrl: "/tfgrid.tfgrid.v1.MsgCreateTwin", value: tfgrid.MsgCreateTwin.fromPartial({ creator: user.address }) },
        ], fee);
        const err = await user.client.txError(res);
        assert.ok(err instanceof ModuleError, `${mode}: a second twin must fail`);
        assert.equal(err.codespace, "tfgrid");
        assert.equal(err.code, 6); // ErrTwinExists
        assert.match(err.log, /twin already exists/);
      } finally {
        user.client.disconnect();
      }
    }
  });

  await t.test("billing params", async () => {
    const params = defined((await operator.client.query.billing.Params({})).params, "params");
    assert.ok(params.settlementInterval > BigInt(0));
  });
});
