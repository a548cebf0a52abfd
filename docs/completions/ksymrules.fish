complete -c ksymrules -s T -l symtypes -d 'Write a symtypes file' -r -F
complete -c ksymrules -l rules -d 'Use these rules instead of the embedded default (a file that starts with `include "default"` changes only what it says)' -r -F
complete -c ksymrules -l kabi -d 'Add the kABI rules of this file (`kabi` statements; see docs/kabi.md); in the environment, several files are separated by `:`' -r -F
complete -c ksymrules -s d -l debug -d 'Print debugging information'
complete -c ksymrules -l dump-dies -d 'Print the type strings as they are built (stderr)'
complete -c ksymrules -l dump-die-map -d 'Same as --dump-dies'
complete -c ksymrules -l dump-types -d 'Print type-map entries as they are added or replaced (stderr)'
complete -c ksymrules -l dump-versions -d 'Print each symbol\'s fully expanded type string (stderr)'
complete -c ksymrules -s s -l stable -d 'Support kABI stability features'
complete -c ksymrules -l print-rules -d 'Print the embedded default rules and exit'
complete -c ksymrules -l walk-in-order -d 'Walk the units one after the other (the parallel walk gives the same results; for comparing both and for benchmarks)'
complete -c ksymrules -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ksymrules -s V -l version -d 'Print version'
