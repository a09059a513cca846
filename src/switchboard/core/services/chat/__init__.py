"""One stored chat turn: the engine that faces and platforms call (engine), one answer with its
streaming, settlement and tool rounds (turn), and the history sent to the model (context)."""
