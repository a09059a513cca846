"""QQ through OneBot v11 (NapCat, Lagrange.OneBot, LLOneBot, go-cqhttp): the implementation dials
/onebot/v11/ws (reverse) or Switchboard dials it (forward); events in, `echo`-matched actions out."""
