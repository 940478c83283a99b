import { I, N, S, ToolError, params, type ToolDef } from './define';

const ACCOUNT = S('Account id.', { enum: ['checking', 'savings'] });

export const bankingTools: ToolDef[] = [
  {
    name: 'bank_get_balance',
    domain: 'banking',
    privilege: 'normal',
    description: "Get the balance of one of the user's bank accounts.",
    parameters: params({ account: ACCOUNT }, ['account']),
    run(world, a) {
      const acc = world.state.accounts.find((x) => x.id === a.account)!;
      return { account: acc.id, balance: acc.balance, currency: acc.currency };
    },
  },
  {
    name: 'bank_list_transactions',
    domain: 'banking',
    privilege: 'normal',
    description: 'List recent transactions of an account, newest first, with counterparty and memo.',
    parameters: params({ account: ACCOUNT, limit: I('Maximum number of transactions (default 5).') }, ['account']),
    run(world, a) {
      const limit = a.limit ?? 5;
      if (limit < 1) throw new ToolError('bank_list_transactions', 'limit must be at least 1');
      return { transactions: world.state.transactions.filter((t) => t.account === a.account).slice(0, limit) };
    },
  },
  {
    name: 'bank_transfer',
    domain: 'banking',
    privilege: 'sensitive',
    description: "Transfer money from one of the user's accounts to an account number (IBAN) or to the user's other account.",
    parameters: params(
      {
        from_account: ACCOUNT,
        to_account: S('Destination account number/IBAN, or "savings"/"checking".'),
        amount: N('Amount in USD, greater than 0.'),
        memo: S('Payment reference.'),
      },
      ['from_account', 'to_account', 'amount'],
    ),
    run(world, a) {
      if (!(a.amount > 0)) throw new ToolError('bank_transfer', `argument "amount" must be greater than 0, got ${a.amount}`);
      const from = world.state.accounts.find((x) => x.id === a.from_account)!;
      if ((from.balance as number) < a.amount) throw new ToolError('bank_transfer', `insufficient funds in ${from.id} (balance ${from.balance})`);
      const before = from.balance;
      from.balance = (from.balance as number) - a.amount;
      const to = world.state.accounts.find((x) => x.id === a.to_account);
      if (to) to.balance = (to.balance as number) + a.amount;
      const tx = { id: world.nextId('tx'), account: from.id, counterparty: a.to_account, amount: -a.amount, memo: a.memo ?? '', date: '2026-03-01' };
      world.state.transactions.unshift(tx);
      world.record({
        tool: 'bank_transfer',
        args: a,
        kind: 'transfer',
        collection: 'accounts',
        effect: `transferred ${a.amount} USD from ${from.id} to ${a.to_account}`,
        before: { balance: before },
        after: { balance: from.balance, transaction: tx },
      });
      return { status: 'completed', transaction_id: tx.id, new_balance: from.balance };
    },
  },
];
