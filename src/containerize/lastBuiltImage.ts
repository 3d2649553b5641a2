// The workspace state key of the last image built: the notebook toolbar's Deploy and the deploy command's first pick.
export const LAST_BUILT_IMAGE = 'mlops.lastBuiltImage';
