export {
  PolicyData,
  factorSchema,
  loadPolicyData,
  thresholdSchema,
  type Factor,
  type Threshold,
} from './policy-data';
