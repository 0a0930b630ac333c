// @tfgrid/ts-client: the tfgrid chain's protobuf types, CosmJS registry, amino converters and typed
// query clients. Generated code is under ./generated (make ts-gen); import a module's types from
// "@tfgrid/ts-client/dist/src/generated/tfgrid/<module>/v1/<file>" or through the namespaces below.
export * from "./client";
export { decFromString, decToString, DEC_PRECISION } from "./amino-encoding";
export { tfgridAminoConverters, tfgridMsgTypes } from "./generated/tfgrid-msgs";
export * as tfgrid from "./generated/tfgrid/tfgrid/v1/tx";
export * as tfgridQuery from "./generated/tfgrid/tfgrid/v1/query";
export * as tfgridTypes from "./generated/tfgrid/tfgrid/v1/types";
export * as smartcontract from "./generated/tfgrid/smartcontract/v1/tx";
export * as smartcontractQuery from "./generated/tfgrid/smartcontract/v1/query";
export * as smartcontractTypes from "./generated/tfgrid/smartcontract/v1/types";
export * as billing from "./generated/tfgrid/billing/v1/tx";
export * as billingQuery from "./generated/tfgrid/billing/v1/query";
export * as billingTypes from "./generated/tfgrid/billing/v1/types";
