import { something } from 'wsgate-no-such-package';

export default something;
