/**
 * The device simulator: physical models, faults and ground truth for the demo, the end-to-end tests and the
 * benchmarks. Its models and CLI land with issue 3.
 */
export {};
