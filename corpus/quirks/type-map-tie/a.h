struct conf { int alpha; };
