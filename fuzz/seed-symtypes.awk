# fuzz/smoke.sh: a seed for the symtypes target cut from a symtypes file.
#
#   awk -v q="'" -v max=200 -f seed-symtypes.awk FILE
#
# Keeps the lines of the exports, then of the types, that fit with all the
# types they reach in `max` lines, in file order: a file cut anywhere else
# refers to types it lacks (and each export of a module may reach a
# thousand types).
function key(l,   i) {
	if (substr(l, 2, 1) == "#" && substr(l, 3, 1) == q) {
		i = index(substr(l, 4), q " ")
		if (i) return substr(l, 1, 3 + i)
	}
	split(l, f, " ")
	return f[1]
}
function reach(n, mark,   s, r) {
	if (n in mark) return 0
	mark[n] = 1
	s = substr(lines[n], length(key(lines[n])) + 1)
	while (match(s, re)) {
		r = substr(s, RSTART, RLENGTH)
		sub(/^ /, "", r)
		if (r in byname) reach(byname[r], mark)
		s = substr(s, RSTART + RLENGTH)
	}
	return 1
}
BEGIN { re = "(^| )[stueE]#(" q "[^" q "]*" q "|[^ ]+)" }
{
	lines[NR] = $0
	byname[key($0)] = NR
	if (substr($0, 2, 1) != "#") roots[++ne] = NR
}
END {
	for (i = 1; i <= NR; i++) if (substr(lines[i], 2, 1) == "#") roots[++ne] = i
	for (e = 1; e <= ne; e++) {
		split("", trial)
		for (n in keep) trial[n] = 1
		reach(roots[e], trial)
		size = 0
		for (n in trial) size++
		if (size > max) continue
		split("", keep)
		for (n in trial) keep[n] = 1
	}
	for (i = 1; i <= NR; i++) if (i in keep) print lines[i]
}
