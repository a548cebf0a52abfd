/* asm_entry is defined in assembly: no DIE describes it, so the kernel's
 * export macro leaves a typed pointer to it, and gendwarfksyms describes
 * the export from the pointer's target (parameters without names). */
asm(".globl asm_entry\n.type asm_entry,@function\nasm_entry:\n\tret\n");
void asm_entry(int code);
static __typeof__(asm_entry) *__gendwarfksyms_ptr_asm_entry
	__attribute__((used, section(".discard.gendwarfksyms"))) = &asm_entry;
