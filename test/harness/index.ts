export * from "./analyzerWire";
export * from "./engineSequence";
export * from "./formatDiagnostics";
export * from "./policyPackConfig";
export * from "./policyPackProcess";
export * from "./stackExport";
export * from "./stackResource";
export * from "./passphraseSecrets";
