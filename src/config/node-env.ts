/** NODE_ENV values that mean production, in any case (the same rule loadConfig uses to forbid local mode). */
export function isProductionNodeEnv(nodeEnv: string): boolean {
  return ['production', 'prod'].includes(nodeEnv.toLowerCase());
}
