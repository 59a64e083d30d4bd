"""下一步措施 per rule: the office's standing measure for the kind of problem a rule finds.

Generic policy wording, never a fact about a case; the facts (counts, amounts, regions) come from the data.
"""

from __future__ import annotations

MEASURES = {
    "DUP_ENROLL": "清理重复参保关系，终止多余参保并清退重复缴费、追回重复享受的待遇",
    "DUP_BENEFIT": "停发重复待遇、追回多发金额，待遇核定前开展跨险种、跨地区比对",
    "DECEASED_PAID": "加强与公安、民政、卫健死亡信息的共享比对，及时停发待遇并追回死亡后冒领金额",
    "UNEMP_WHILE_EMPLOYED": "将失业保险金发放与个税扣缴、参保登记信息比对，停发已就业人员失业金并追回",
    "DUP_CLAIM": "对重复发票、重复结算开展专项核查，追回重复报销的统筹基金并依协议处理定点医疗机构",
    "SHARED_ACCOUNT": "核实多人共用收款账户的代领情况，规范待遇发放账户管理",
    "RECON_CONTRIB": "会同税务部门逐户核对应缴与实缴差异，及时追缴欠费",
    "RECON_LEDGER_BANK": "逐笔核对财政专户明细账与银行对账单，查明账实不符原因并调账",
    "RECON_PAYMENT": "逐笔核对代发回盘，处理发放失败、退回及入账账户不一致的款项",
    "UNREGISTERED_ACCOUNT": "清理未登记及销户后仍在使用的账户，严禁多头开户",
    "SOD_BREACH": "落实不相容岗位相分离，调整经办权限，系统管理员不得经办业务",
    "LARGE_PAYMENT_UNAPPROVED": "严格执行大额支付负责人审批制度，补办审批手续并追究责任",
}
