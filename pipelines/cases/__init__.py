"""The 四定一限 case cycle: register, deadlines, 要情, checklists and reports."""
