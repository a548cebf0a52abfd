struct conf { int omega; };
