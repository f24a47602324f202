const ok = 1;

export default {ok, ;
